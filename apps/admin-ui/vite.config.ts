import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// SvelteKit takes its project directory from the working directory (read when '@sveltejs/kit/vite' is first
// loaded). Changing to this folder first, then importing it, makes the build work the same from the
// workspace root (`npx vite build --config apps/admin-ui/vite.config.ts`) and from here (`npx vite build`).
// (SvelteKit also loads this file in a worker, where chdir is not allowed but the directory is already right.)
const appRoot = dirname(fileURLToPath(import.meta.url));
if (process.cwd() !== appRoot) process.chdir(appRoot);
const { sveltekit } = await import('@sveltejs/kit/vite');

/** The admin app (docs/api.md: ADMIN_PORT 8081) answers /api during `vite dev`. */
const ADMIN_API_ORIGIN = 'http://127.0.0.1:8081';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: { '/api': { target: ADMIN_API_ORIGIN } },
  },
});
