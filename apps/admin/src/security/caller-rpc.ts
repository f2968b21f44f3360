import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { nsPattern } from '@gg/contracts';
import { callerProofKey, RpcClient, signCallerProof, type ProvenCaller } from '@gg/nest-common';

/**
 * RPCs made for a logged-in user: each message carries a caller proof signed for it (user, role, token version,
 * session, pattern, payload; 30 s, single use), never a bare `caller` object. Auth and key-pool derive the caller
 * from the proof.
 */
@Injectable()
export class CallerRpc {
  private readonly key: Buffer;
  private readonly ns: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rpc: RpcClient,
  ) {
    this.key = callerProofKey(config.jwtSecret);
    this.ns = config.redisNamespace;
  }

  /** The payload with its proof, for `pattern`. */
  prove<P extends object>(caller: ProvenCaller, pattern: string, payload: P): P & { proof: string } {
    return { ...payload, proof: signCallerProof(this.key, caller, nsPattern(this.ns, pattern), payload) };
  }

  send<T>(caller: ProvenCaller, pattern: string, payload: object = {}, timeoutMs?: number): Promise<T> {
    return this.rpc.send<T>(pattern, this.prove(caller, pattern, payload), timeoutMs);
  }
}
