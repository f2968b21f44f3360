/** Notifications for the outcome of every action; rendered by Toasts.svelte in an aria-live region. */
import { ApiError, errorMessage } from './api';

export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const TIMEOUT_MS: Record<ToastKind, number> = { success: 4000, info: 5000, error: 8000 };
const MAX_VISIBLE = 5;

class Toasts {
  items = $state<Toast[]>([]);
  #nextId = 1;

  show(kind: ToastKind, message: string): void {
    const id = this.#nextId++;
    this.items = [...this.items, { id, kind, message }].slice(-MAX_VISIBLE);
    setTimeout(() => this.dismiss(id), TIMEOUT_MS[kind]);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }

  success(message: string): void {
    this.show('success', message);
  }

  info(message: string): void {
    this.show('info', message);
  }

  error(message: string): void {
    this.show('error', message);
  }
}

export const toasts = new Toasts();

/** Shows a failed action, e.g. `notifyError(err, 'Could not delete the key')`. Silent when the session ended. */
export function notifyError(err: unknown, action: string): void {
  if (err instanceof ApiError && err.sessionExpired) return;
  toasts.error(`${action}: ${errorMessage(err)}`);
}
