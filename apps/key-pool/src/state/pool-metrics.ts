import { Injectable, type OnModuleInit } from '@nestjs/common';
import { statusOf } from '@gg/key-state';
import { ProbesService } from '@gg/nest-common';
import { Counter, Gauge } from 'prom-client';
import { ProxiesService } from '../proxies/proxies.service';
import { InFlightService } from './in-flight.service';
import { PoolStateService } from './pool-state.service';

/**
 * Pool figures on `/metrics`. Labels never carry a key or a secret: only statuses, outcome kinds and proxy ids (never
 * a proxy's URL).
 */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly probes: ProbesService,
    private readonly pool: PoolStateService,
    private readonly inFlight: InFlightService,
    private readonly proxies: ProxiesService,
  ) {}

  onModuleInit(): void {
    const registers = [this.probes.registry];
    const pool = this.pool;
    const inFlight = this.inFlight;
    new Gauge({
      name: 'gg_pool_keys',
      help: 'Pool keys by status',
      labelNames: ['status'],
      registers,
      collect() {
        const now = Date.now();
        const counts = { active: 0, cooldown: 0, disabled: 0 };
        for (const e of pool.all()) counts[statusOf(e.state, now)]++;
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'gg_pool_in_flight',
      help: 'Requests in flight on pool keys, summed over every gateway',
      registers,
      collect() {
        let total = 0;
        for (const n of inFlight.totals().values()) total += n;
        this.set(total);
      },
    });
    new Gauge({
      name: 'gg_pool_paused_seconds',
      help: 'Seconds left of a pool-wide pause (Google throttling the server), 0 when the pool is not paused',
      registers,
      collect() {
        const now = Date.now();
        const until = pool.pausedUntil(now);
        this.set(until > 0 ? (until - now) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'gg_pool_models_resting',
      help: 'Models resting on every key because Google answered that they are overloaded (several keys and users)',
      registers,
      collect() {
        this.set(Object.keys(pool.modelsResting(Date.now())).length);
      },
    });
    const proxies = this.proxies;
    new Gauge({
      name: 'gg_pool_proxy_resting',
      help: 'Per upstream proxy of the list (by id): 1 while it rests after a failure, 0 while it carries traffic',
      labelNames: ['proxy'],
      registers,
      collect() {
        // a deleted proxy's series goes with it
        this.reset();
        for (const p of proxies.list()) this.set({ proxy: p.id }, p.status === 'resting' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gg_pool_proxy_keys',
      help: 'Per upstream proxy of the list (by id): the pool keys whose traffic goes through it now',
      labelNames: ['proxy'],
      registers,
      collect() {
        this.reset();
        for (const p of proxies.list()) this.set({ proxy: p.id }, p.keyCount);
      },
    });
    const outcomes = new Counter({
      name: 'gg_pool_outcomes_total',
      help: 'Attempt outcomes reported by gateways',
      labelNames: ['kind'],
      registers,
    });
    this.pool.onOutcome((kind) => outcomes.inc({ kind }));
  }
}
