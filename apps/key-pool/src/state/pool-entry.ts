import type { KeyState } from '@gg/key-state';

/** One pool key as key-pool holds it in memory: the decrypted secret and its live state. */
export interface PoolEntry {
  id: string;
  secret: string;
  fingerprint: string;
  masked: string;
  createdAt: string;
  state: KeyState;
}
