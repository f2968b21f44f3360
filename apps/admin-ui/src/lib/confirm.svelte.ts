/** `await confirmAction({...})` opens the one confirmation dialog (ConfirmHost.svelte) and resolves to the choice. */

export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel?: string;
  /** styles the confirm button as destructive */
  danger?: boolean;
}

interface PendingConfirm extends ConfirmOptions {
  resolve: (ok: boolean) => void;
}

class ConfirmState {
  pending = $state.raw<PendingConfirm | null>(null);

  ask(options: ConfirmOptions): Promise<boolean> {
    this.pending?.resolve(false);
    return new Promise((resolve) => {
      this.pending = { ...options, resolve };
    });
  }

  answer(ok: boolean): void {
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(ok);
  }
}

export const confirmState = new ConfirmState();

export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return confirmState.ask(options);
}
