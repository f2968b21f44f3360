import type { ProxyFailureReport, SnapshotKey, SnapshotProxy } from '@gg/contracts';
import { routeProxy } from '@gg/key-state';
import { UpstreamProxyError, type RpcClient } from '@gg/nest-common';
import type { Dispatcher } from 'undici';
import { GatewayMetrics } from '../http/gateway-metrics';
import type { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { ProxyRouter } from './proxy-router.service';
import type { UpstreamService } from './upstream.service';

class FakeRpc {
  sent: { pattern: string; data: unknown }[] = [];
  emit(pattern: string, data: unknown): void {
    this.sent.push({ pattern, data });
  }
}

/** A dispatcher that only says which proxy it stands for. */
const dispatcherOf = (url: string): Dispatcher => ({ url, close: () => Promise.resolve() }) as unknown as Dispatcher;
const urlOf = (d: Dispatcher | undefined): string | undefined => (d as unknown as { url: string } | undefined)?.url;

const key = (id: string, proxyId?: string): SnapshotKey => ({
  id,
  secret: `s-${id}`,
  status: 'active',
  cooldownUntil: 0,
  modelCooldowns: {},
  ...(proxyId ? { proxyId } : {}),
});

describe('ProxyRouter', () => {
  let proxies: SnapshotProxy[];
  let rpc: FakeRpc;
  let router: ProxyRouter;
  const live = { aborted: false };

  beforeEach(() => {
    proxies = ['a', 'b', 'c'].map((id) => ({ id, url: `http://u:pw@${id}.example:8080`, restingUntil: 0 }));
    rpc = new FakeRpc();
    router = new ProxyRouter(
      {
        get proxies() {
          return proxies;
        },
      } as unknown as PoolSnapshotService,
      { proxyPool: dispatcherOf } as unknown as UpstreamService,
      rpc as unknown as RpcClient,
      new GatewayMetrics(),
    );
  });

  const reports = (): ProxyFailureReport[] =>
    rpc.sent.filter((s) => s.pattern === 'pool.proxy.failure').map((s) => s.data as ProxyFailureReport);

  it('with no list, sends once through the default pool', async () => {
    proxies = [];
    const seen: (string | undefined)[] = [];
    await router.send(key('k'), true, live, async (d) => void seen.push(urlOf(d)));
    expect(seen).toEqual([undefined]);
  });

  it("sends through the key's proxy: its binding, else the hashing's", async () => {
    const seen: (string | undefined)[] = [];
    const send = async (d: Dispatcher | undefined): Promise<void> => void seen.push(urlOf(d));
    await router.send(key('k1', 'b'), true, live, send);
    const hashed = routeProxy('k2', undefined, proxies, Date.now())!.proxy;
    await router.send(key('k2'), true, live, send);
    expect(seen).toEqual([proxies[1].url, hashed.url]);
  });

  it('a proxy that fails is reported and left out here at once; the same key goes through its next proxy', async () => {
    const k = key('k1', 'a');
    const seen: string[] = [];
    const result = await router.send(k, true, live, async (d) => {
      seen.push(urlOf(d)!);
      if (urlOf(d) === proxies[0].url) throw new UpstreamProxyError('http://u:***@a.example:8080', 'HTTP 407');
      return 'answer';
    });
    expect(result).toBe('answer');
    const next = routeProxy('k1', undefined, proxies, Date.now(), new Set(['a']))!.proxy;
    expect(seen).toEqual([proxies[0].url, next.url]);
    expect(reports()).toEqual([{ proxyId: 'a', reason: 'HTTP 407', at: expect.any(Number) }]);
    // the next request of a key bound to it does not try it again before key-pool's snapshot says it rests
    seen.length = 0;
    await router.send(k, true, live, async (d) => void seen.push(urlOf(d)!));
    expect(seen).toEqual([next.url]);
    expect(reports()).toHaveLength(1);
  });

  it('throws the last proxy failure once every proxy failed, and does not retry a body that cannot be resent', async () => {
    const failing = async (d: Dispatcher | undefined): Promise<never> => {
      throw new UpstreamProxyError(urlOf(d)!, 'ECONNREFUSED');
    };
    await expect(router.send(key('k1'), true, live, failing)).rejects.toBeInstanceOf(UpstreamProxyError);
    expect(
      reports()
        .map((r) => r.proxyId)
        .sort(),
    ).toEqual(['a', 'b', 'c']);

    rpc.sent.length = 0;
    proxies = proxies.map((p) => ({ ...p, id: `${p.id}2` }));
    let tries = 0;
    await expect(
      router.send(key('k1'), false, live, async (d) => {
        tries++;
        return failing(d);
      }),
    ).rejects.toBeInstanceOf(UpstreamProxyError);
    expect(tries).toBe(1);
    expect(reports()).toHaveLength(1);
  });

  it('passes other errors on untouched, and a proxy failure of an aborted request blames nothing', async () => {
    const other = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    await expect(router.send(key('k1'), true, live, () => Promise.reject(other))).rejects.toBe(other);
    const aborted = { aborted: true };
    const proxyError = new UpstreamProxyError('masked', 'UND_ERR_ABORTED');
    await expect(router.send(key('k1'), true, aborted, () => Promise.reject(proxyError))).rejects.toBe(proxyError);
    expect(reports()).toHaveLength(0);
  });
});
