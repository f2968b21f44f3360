import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gg/config';
import { compileTrust } from '@gg/nest-common';
import { renderK8s } from './k8s-render';

/** The example overlay tells the apps which proxy (the ingress controller) to believe X-Forwarded-* from. */
describe('k8s/ example overlay: TRUSTED_PROXIES', () => {
  it('sets TRUSTED_PROXIES for the ingress, a list the config accepts, trusting the ingress and not the world', () => {
    const { objects } = renderK8s();
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('gemini-gateway-config'));
    const value = cm?.data?.TRUSTED_PROXIES as string | undefined;
    expect(value).toEqual(expect.any(String));
    const dir = mkdtempSync(join(tmpdir(), 'gg-k8s-trust-'));
    try {
      const config = loadConfig({ DATA_DIR: dir, TRUSTED_PROXIES: value });
      expect(config.trustedProxies.length).toBeGreaterThan(0);
      const trust = compileTrust(config.trustedProxies);
      expect(trust('10.42.0.17', 0)).toBe(true); // an ingress-nginx pod
      expect(trust('203.0.113.5', 0)).toBe(false); // a client on the internet
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
