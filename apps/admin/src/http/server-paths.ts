/** Paths the Nest app answers itself: the REST API and the probes. Everything else is the SPA's. */
const SERVER_PATH = /^\/(api(\/|$)|(healthz|readyz|metrics)\/?$)/i;

export function isServerPath(path: string): boolean {
  return SERVER_PATH.test(path);
}

export function isApiPath(path: string): boolean {
  return /^\/api(\/|$)/i.test(path);
}
