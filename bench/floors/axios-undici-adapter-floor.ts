/** axios with the undici adapter of axios-undici-adapter.ts, otherwise configured like axios-floor.ts. */
import axios from 'axios';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { undiciAdapter } from './axios-undici-adapter';
import { downstreamHeaders, fail, serve, UPSTREAM } from './common';

const client = axios.create({
  baseURL: UPSTREAM,
  adapter: undiciAdapter(),
  responseType: 'stream',
  decompress: false,
  maxRedirects: 0,
  validateStatus: () => true,
  transformRequest: [(data: unknown) => data],
});

serve('axios-undici', (req, res, headers) => {
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
  client
    .request<Readable>({ method: req.method, url: req.url, headers, data: hasBody ? req : undefined })
    .then((up) => {
      res.writeHead(up.status, downstreamHeaders(up.headers as Record<string, unknown>));
      pipeline(up.data, res, () => undefined);
    })
    .catch((e) => fail(res, e));
});
