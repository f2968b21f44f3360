/** Who is signed in. The access token itself stays inside api.ts. */
import { goto } from '$app/navigation';
import type { Me } from '$contracts';
import { api, onSessionLost } from './api';
import { LOGIN_PATH } from './navigation';

class Session {
  /** the signed-in user, or null */
  user = $state.raw<Me | null>(null);
  /** false until the start-up refresh has been tried */
  ready = $state(false);
  readonly isAdmin = $derived(this.user?.role === 'admin');

  constructor() {
    onSessionLost(() => {
      this.user = null;
    });
  }

  /** On app start: a silent refresh from the cookie, so a reload keeps you signed in. */
  async start(): Promise<void> {
    try {
      if (await api.auth.refresh()) this.user = await api.auth.me();
    } catch {
      this.user = null;
    } finally {
      this.ready = true;
    }
  }

  async login(username: string, password: string): Promise<void> {
    await api.auth.login({ username, password });
    this.user = await api.auth.me();
  }

  /**
   * Changes the signed-in user's password. The server then ends every session of the user, this one too:
   * forget it here (and clear the refresh cookie) and show the login page.
   */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await api.auth.changePassword({ currentPassword, newPassword });
    await this.logout();
  }

  /** Ends the session and shows the login page (without a `next`: the next person starts at the dashboard). */
  async logout(): Promise<void> {
    await api.auth.logout();
    await goto(LOGIN_PATH, { replaceState: true });
    this.user = null;
  }
}

export const session = new Session();
