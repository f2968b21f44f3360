// A static single-page app: everything renders in the browser; adapter-static writes only the fallback
// index.html, which the admin app serves for every path that is not /api or a file of the build.
export const ssr = false;
export const prerender = false;
