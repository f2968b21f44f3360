/** The busy row of a table and the one way its buttons act: confirm (optionally), run, toast a failure. */
import { confirmAction, type ConfirmOptions } from './confirm.svelte';
import { notifyError } from './toasts.svelte';

export class RowActions {
  /** the row whose action is running; its buttons are disabled meanwhile */
  busyId = $state<string | null>(null);

  /**
   * Asks `confirm` first when given (and stops if declined), then runs `action` with row `id` busy. A thrown
   * error becomes an error toast that starts with `failure`.
   */
  async run(id: string, failure: string, action: () => Promise<void>, confirm?: ConfirmOptions): Promise<void> {
    if (confirm && !(await confirmAction(confirm))) return;
    this.busyId = id;
    try {
      await action();
    } catch (err) {
      notifyError(err, failure);
    } finally {
      this.busyId = null;
    }
  }
}
