/**
 * A minimal axios adapter over undici (none is installed: `ls node_modules | grep -i axios` shows only axios and
 * gaxios). It covers what a forwarding path needs: method, URL (baseURL + url + params via getUri), headers, a
 * Buffer/string/stream body, `responseType: 'stream'` (or the body read into a Buffer), `validateStatus`, `signal`.
 */
import axios, { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

export function undiciAdapter(
  dispatcher: Dispatcher = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000 }),
) {
  return async function adapter(config: InternalAxiosRequestConfig): Promise<AxiosResponse> {
    const url = new URL(axios.getUri(config));
    const headers: Record<string, string> = {};
    const h = AxiosHeaders.from(config.headers).toJSON(true) as Record<string, string | string[] | undefined>;
    for (const k in h) {
      const v = h[k];
      if (v !== undefined && v !== null) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const data = config.data as unknown;
    const body =
      data === undefined || data === null
        ? null
        : typeof data === 'string' || Buffer.isBuffer(data) || data instanceof Readable
          ? data
          : JSON.stringify(data);
    const up = await dispatcher
      .request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: (config.method ?? 'get').toUpperCase() as Dispatcher.HttpMethod,
        headers,
        body: body as Dispatcher.DispatchOptions['body'],
        signal: config.signal as AbortSignal | undefined,
      })
      .catch((e: Error & { code?: string }) => {
        throw new AxiosError(e.message, e.code, config);
      });
    const responseHeaders = new AxiosHeaders(up.headers as Record<string, string>);
    const responseData = config.responseType === 'stream' ? up.body : Buffer.from(await up.body.arrayBuffer());
    const response: AxiosResponse = {
      data: responseData,
      status: up.statusCode,
      statusText: '',
      headers: responseHeaders,
      config,
      request: null,
    };
    const validate = config.validateStatus;
    if (validate && !validate(up.statusCode)) {
      if (config.responseType === 'stream') up.body.destroy();
      throw new AxiosError(
        `Request failed with status code ${up.statusCode}`,
        AxiosError.ERR_BAD_RESPONSE,
        config,
        null,
        response,
      );
    }
    return response;
  };
}
