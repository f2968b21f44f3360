import adapter from '@sveltejs/adapter-static';

/** Static SPA: every route is rendered in the browser; the admin app serves index.html for unknown paths. */
/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    adapter: adapter({
      pages: '../../dist/apps/admin-ui',
      assets: '../../dist/apps/admin-ui',
      fallback: 'index.html',
      precompress: false,
      strict: true,
    }),
    alias: {
      // The only code from outside this app: the browser-safe API types.
      $contracts: '../../libs/contracts/src',
    },
    appDir: '_app',
    version: { pollInterval: 0 },
  },
};

export default config;
