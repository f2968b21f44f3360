import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayServer } from './gateway-server';

/** What a probe answered: status and JSON body (or text). */
function answer(): { res: ServerResponse; done: Promise<{ status: number; body: string }> } {
  let resolve!: (v: { status: number; body: string }) => void;
  const done = new Promise<{ status: number; body: string }>((r) => (resolve = r));
  let status = 0;
  const res = {
    headersSent: false,
    writeHead(s: number) {
      status = s;
      res.headersSent = true;
      return res;
    },
    end(body?: string) {
      resolve({ status, body: body ?? '' });
      return this;
    },
    destroy() {
      resolve({ status: -1, body: '' });
      return this;
    },
  } as { headersSent: boolean; [method: string]: unknown };
  return { res: res as unknown as ServerResponse, done };
}

function server(o: { ping: () => Promise<boolean>; metrics: () => Promise<string> }): GatewayServer {
  const metrics = { registry: { metrics: o.metrics, contentType: 'text/plain; version=0.0.4' } };
  const args = [{}, {}, {}, { ready: true }, {}, {}, metrics, { ping: o.ping }] as unknown as ConstructorParameters<
    typeof GatewayServer
  >;
  return new GatewayServer(...args);
}

const probe = (s: GatewayServer, path: string): Promise<{ status: number; body: string }> => {
  const a = answer();
  (s as unknown as { onProbe(req: IncomingMessage, res: ServerResponse): void }).onProbe(
    { url: path } as IncomingMessage,
    a.res,
  );
  return a.done;
};

describe('GatewayServer probes (METRICS_PORT)', () => {
  it('answers /readyz and /metrics when their checks resolve', async () => {
    const s = server({ ping: async () => true, metrics: async () => 'gateway_open 0\n' });
    expect(await probe(s, '/readyz')).toEqual({
      status: 200,
      body: JSON.stringify({ status: 'ok', checks: { redis: true, pool: true, draining: true } }),
    });
    expect(await probe(s, '/metrics')).toEqual({ status: 200, body: 'gateway_open 0\n' });
  });

  it('answers 503 on /readyz and 500 on /metrics when their checks reject, instead of leaving the probe hanging', async () => {
    const s = server({
      ping: () => Promise.reject(new Error('redis gone')),
      metrics: () => Promise.reject(new Error('collector threw')),
    });
    expect(await probe(s, '/readyz')).toEqual({ status: 503, body: JSON.stringify({ status: 'unavailable' }) });
    expect(await probe(s, '/metrics')).toEqual({ status: 500, body: JSON.stringify({ status: 'error' }) });
  });
});
