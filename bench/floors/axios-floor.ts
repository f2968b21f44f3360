/**
 * axios on the forwarding path, configured as a gateway would: keep-alive agent, the request streamed in, the answer
 * as a stream (`responseType: 'stream'`), no decompression, no redirects followed, every status passed through.
 */
import axios from 'axios';
import { Agent } from 'node:http';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { downstreamHeaders, fail, serve, UPSTREAM } from './common';

const client = axios.create({
  baseURL: UPSTREAM,
  httpAgent: new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 }),
  responseType: 'stream',
  decompress: false,
  maxRedirects: 0,
  maxBodyLength: Infinity,
  maxContentLength: Infinity,
  validateStatus: () => true,
  transformRequest: [(data: unknown) => data],
});

serve('axios', (req, res, headers) => {
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
  client
    .request<Readable>({ method: req.method, url: req.url, headers, data: hasBody ? req : undefined })
    .then((up) => {
      res.writeHead(up.status, downstreamHeaders(up.headers as Record<string, unknown>));
      pipeline(up.data, res, () => undefined);
    })
    .catch((e) => fail(res, e));
});
