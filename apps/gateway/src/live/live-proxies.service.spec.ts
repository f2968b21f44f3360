import type { AppConfig } from '@gg/config';
import type { ProxyFailureReport, SnapshotKey, SnapshotProxy } from '@gg/contracts';
import { routeProxy } from '@gg/key-state';
import { UpstreamProxyError, type RpcClient } from '@gg/nest-common';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { ProxyRouter } from '../forward/proxy-router.service';
import type { UpstreamService } from '../forward/upstream.service';
import { GatewayMetrics } from '../http/gateway-metrics';
import type { PoolSnapshotService } from '../pool/pool-snapshot.service';
import { LiveProxies } from './live-proxies.service';

const key = (id: string, proxyId?: string): SnapshotKey => ({
  id,
  secret: `s-${id}`,
  status: 'active',
  cooldownUntil: 0,
  modelCooldowns: {},
  ...(proxyId ? { proxyId } : {}),
});

/** Which proxy an agent goes to, by its own record of the URL it was built with. */
const target = (agent: unknown): string | undefined => {
  if (agent instanceof HttpsProxyAgent) return agent.proxy.href;
  // the SOCKS version, and whether the name is resolved by the gateway (no `h`) or by the proxy
  if (agent instanceof SocksProxyAgent) {
    return `socks${agent.proxy.type}${agent.shouldLookup ? '' : 'h'}://${agent.proxy.host}:${agent.proxy.port}`;
  }
  return undefined;
};

describe('LiveProxies', () => {
  let proxies: SnapshotProxy[];
  let sent: { pattern: string; data: unknown }[];
  let metrics: GatewayMetrics;

  function live(upstreamProxy: string | null): LiveProxies {
    metrics = new GatewayMetrics();
    const pool = {
      get proxies() {
        return proxies;
      },
    } as unknown as PoolSnapshotService;
    const rpc = { emit: (pattern: string, data: unknown) => void sent.push({ pattern, data }) } as unknown as RpcClient;
    const router = new ProxyRouter(pool, {} as UpstreamService, rpc, metrics);
    const config = { upstreamProxy, connectTimeoutMs: 1000 } as AppConfig;
    return new LiveProxies(config, pool, router, metrics);
  }

  beforeEach(() => {
    proxies = [];
    sent = [];
  });

  it('with no list: UPSTREAM_PROXY once (or direct), nothing left after it failed', async () => {
    const direct = live(null).via(key('k'), new Set());
    expect(direct).toEqual({ proxyId: null, agent: undefined });
    const l = live('socks5://u:pw@10.0.0.1:1080');
    const via = l.via(key('k'), new Set())!;
    expect([via.proxyId, target(via.agent)]).toEqual([null, 'socks5h://10.0.0.1:1080']);
    expect(l.via(key('k'), new Set(['']))).toBeNull();
    l.failed(via, new UpstreamProxyError('socks5://u:***@10.0.0.1:1080', 'ECONNREFUSED'), true);
    // no proxy of the list to report: counted as the HTTP path's 502
    expect(sent).toEqual([]);
    expect((await metrics.upstreamProxyFailures.get()).values[0].value).toBe(1);
  });

  it("takes the key's proxy of the list over UPSTREAM_PROXY, one agent per proxy, rebuilt when its URL changes", () => {
    proxies = ['a', 'b', 'c'].map((id) => ({ id, url: `http://u:pw@${id}.example:8080`, restingUntil: 0 }));
    const l = live('http://fallback.example:3128');
    const bound = l.via(key('k1', 'b'), new Set())!;
    expect([bound.proxyId, target(bound.agent)]).toEqual(['b', 'http://u:pw@b.example:8080/']);
    expect(l.via(key('k2', 'b'), new Set())!.agent).toBe(bound.agent);
    const hashed = routeProxy('k3', undefined, proxies, Date.now())!.proxy;
    expect(l.via(key('k3'), new Set())!.proxyId).toBe(hashed.id);

    proxies = proxies.map((p) => (p.id === 'b' ? { ...p, url: 'http://u:new@b.example:8081' } : p));
    const rebuilt = l.via(key('k1', 'b'), new Set())!;
    expect(rebuilt.agent).not.toBe(bound.agent);
    expect(target(rebuilt.agent)).toBe('http://u:new@b.example:8081/');
  });

  it('reports a failed proxy of the list as the HTTP path does and routes the key to its next one', async () => {
    proxies = ['a', 'b'].map((id) => ({ id, url: `socks5://${id}.example:1080`, restingUntil: 0 }));
    const l = live(null);
    const first = l.via(key('k1', 'a'), new Set())!;
    l.failed(first, new UpstreamProxyError('socks5://a.example:1080', 'UND_ERR_SOCKS5_AUTH_FAILED'), false);
    expect((await metrics.upstreamProxyFailures.get()).values[0].value).toBe(0);
    expect(sent).toEqual([
      {
        pattern: 'pool.proxy.failure',
        data: {
          proxyId: 'a',
          reason: 'UND_ERR_SOCKS5_AUTH_FAILED',
          at: expect.any(Number),
        } satisfies ProxyFailureReport,
      },
    ]);
    // left out here at once, for this session and the next ones
    expect(l.via(key('k1', 'a'), new Set(['a']))!.proxyId).toBe('b');
    expect(l.via(key('k1', 'a'), new Set())!.proxyId).toBe('b');
    expect(l.via(key('k1', 'a'), new Set(['a', 'b']))).toBeNull();
  });
});
