/** Where the app sends people: the login page with a return path, and the safe use of that path. */

export const LOGIN_PATH = '/login';

/** `/login?next=<path>`; no `next` for the dashboard. */
export function loginHref(next: string): string {
  return next && next !== '/' ? `${LOGIN_PATH}?next=${encodeURIComponent(next)}` : LOGIN_PATH;
}

/** The `next` parameter if it is a path of this app, else `/` (no open redirect to another origin). */
export function safeNext(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (raw === LOGIN_PATH || raw.startsWith(`${LOGIN_PATH}?`) || raw.startsWith(`${LOGIN_PATH}/`)) return '/';
  return raw;
}

export interface NavItem {
  href: string;
  label: string;
  adminOnly: boolean;
  /** SVG path data, 24x24 viewBox, stroked */
  icon: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: '/', label: 'Dashboard', adminOnly: false, icon: 'M3 12l9-8 9 8M5 10v10h5v-6h4v6h5V10' },
  { href: '/status', label: 'Pool', adminOnly: true, icon: 'M4 6h16M4 12h16M4 18h16M7 6v0M7 12v0M7 18v0' },
  { href: '/proxies', label: 'Proxies', adminOnly: true, icon: 'M12 3v6M12 15v6M5 12h14M8 6l4-3 4 3M8 18l4 3 4-3' },
  {
    href: '/auth-keys',
    label: 'User keys',
    adminOnly: false,
    icon: 'M15 7a4 4 0 1 1-3.9 4.9L4 19v2h3v-2h2v-2h2l1.1-1.1A4 4 0 0 1 15 7z',
  },
  { href: '/logs', label: 'Logs', adminOnly: false, icon: 'M5 4h14v16H5zM8 8h8M8 12h8M8 16h5' },
  {
    href: '/users',
    label: 'Users',
    adminOnly: true,
    icon: 'M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM21 19v-1a4 4 0 0 0-3-3.9M16 4.1a3 3 0 0 1 0 5.8',
  },
  {
    href: '/settings',
    label: 'Settings',
    adminOnly: true,
    icon: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  },
  {
    href: '/audit',
    label: 'Audit',
    adminOnly: true,
    icon: 'M9 4h6v3H9zM7 5H5v16h14V5h-2M8 12l2.5 2.5L16 9',
  },
];

/** Whether `href` is the page at `pathname` (or a page below it). */
export function isCurrent(href: string, pathname: string): boolean {
  if (href === '/') return pathname === '/';
  return pathname === href || pathname.startsWith(`${href}/`);
}
