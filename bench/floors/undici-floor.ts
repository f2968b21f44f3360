/** The raw floor: Node `http` server + an undici Pool, request and answer streamed through (the target's yardstick). */
import { Pool } from 'undici';
import { pipeline } from 'node:stream';
import { downstreamHeaders, fail, serve, UPSTREAM } from './common';

const pool = new Pool(UPSTREAM, { connections: null, pipelining: 1, keepAliveTimeout: 30_000 });

serve('undici', (req, res, headers) => {
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
  pool
    .request({ method: req.method as 'POST', path: req.url ?? '/', headers, body: hasBody ? req : null })
    .then((up) => {
      res.writeHead(up.statusCode, downstreamHeaders(up.headers));
      pipeline(up.body, res, () => undefined);
    })
    .catch((e) => fail(res, e));
});
