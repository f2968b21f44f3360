/** Node `http` on both sides: the request piped into an `http.request` on a keep-alive agent, the answer piped back. */
import { Agent, request } from 'node:http';
import { downstreamHeaders, fail, serve, UPSTREAM } from './common';

const u = new URL(UPSTREAM);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

serve('http', (req, res, headers) => {
  const up = request({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, downstreamHeaders(upRes.headers));
    upRes.pipe(res);
  });
  up.on('error', (e) => fail(res, e));
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});
