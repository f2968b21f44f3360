import { Injectable } from '@nestjs/common';
import type { InFlightReport } from '@gg/contracts';

/** A report's lease is trusted at most this far ahead, whatever a gateway's clock says. */
export const MAX_LEASE_MS = 60_000;

/**
 * In-flight counts per gateway, each a lease: a key's `inUse` is the sum over the gateways whose latest report
 * has not expired, so the keys of a gateway that died stop counting as busy when its lease runs out.
 */
@Injectable()
export class InFlightService {
  private readonly reports = new Map<string, { inFlight: Map<string, number>; expiresAt: number }>();

  record(report: InFlightReport, now = Date.now()): void {
    const inFlight = new Map<string, number>();
    for (const [keyId, n] of Object.entries(report.inFlight ?? {})) {
      if (typeof n === 'number' && Number.isFinite(n) && n > 0) inFlight.set(keyId, Math.floor(n));
    }
    const expiresAt = Math.min(report.expiresAt, now + MAX_LEASE_MS);
    if (expiresAt <= now) this.reports.delete(report.gatewayId);
    else this.reports.set(report.gatewayId, { inFlight, expiresAt });
  }

  /** keyId -> requests in flight, summed over live gateways; expired reports are dropped. */
  totals(now = Date.now()): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [gatewayId, report] of this.reports) {
      if (report.expiresAt <= now) {
        this.reports.delete(gatewayId);
        continue;
      }
      for (const [keyId, n] of report.inFlight) totals.set(keyId, (totals.get(keyId) ?? 0) + n);
    }
    return totals;
  }

  inUse(keyId: string, now = Date.now()): number {
    return this.totals(now).get(keyId) ?? 0;
  }
}
