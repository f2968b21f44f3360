import type { DbManager } from '../../db-manager';

/** What each part of the contract suite gets: the open DbManager, and a way to close and reopen it. */
export interface ContractContext {
  db: DbManager;
  /** close the current DbManager and open a new one on the same file / namespace */
  reopen(): Promise<DbManager>;
}

export type GetContext = () => ContractContext;
