import { GatewayMetrics, routeLabel } from './gateway-metrics';

describe('gateway metrics', () => {
  it('labels routes from a bounded set', () => {
    expect(routeLabel('streamGenerateContent')).toBe('streamGenerateContent');
    expect(routeLabel('chat.completions')).toBe('chat.completions');
    expect(routeLabel('GET /v1beta/files')).toBe('GET files');
    expect(routeLabel('GET /v1/models')).toBe('GET models');
    expect(routeLabel('POST /upload/v1beta')).toBe('upload');
    expect(routeLabel('GET /v1beta/whatever-the-client-sent')).toBe('other');
    expect(routeLabel('madeUpMethod')).toBe('other');
  });

  it('counts requests by route and status and times them, with no id or key in any label', async () => {
    const m = new GatewayMetrics();
    m.countRequest('generateContent', 200, 0.02);
    m.countRequest('generateContent', 200, 0.03);
    m.countRequest('GET /v1beta/files', 404, 0.01);
    const text = await m.registry.metrics();
    expect(text).toContain('gateway_requests_total{route="generateContent",status="200"} 2');
    expect(text).toContain('gateway_requests_total{route="GET files",status="404"} 1');
    expect(text).toContain('gateway_request_duration_seconds_count{route="generateContent"} 2');
  });
});
