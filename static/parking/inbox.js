// The driver's notifications: the bell's unread count and the panel's list, with named actions.
// New ones arrive over the socket (notification.created); a resync re-reads the inbox.
import { reactive } from 'vue';

const SHOWN = 20; // the panel lists the newest this many, as GET /me/notifications does by default

// The API client has handled a 401 (the session ends) before a call here throws.
export function createInbox({ api }) {
  const state = reactive({
    notifications: [], // newest first: {id, kind, title, body, reservation_id, created_at, read_at}
    unread: 0,
    open: false,
    failed: false, // the latest read of the inbox did not succeed
    marking: false, // a "mark read" is in flight
  });

  async function load() {
    try {
      const { notifications, unread_count: unread } = await api.listNotifications();
      Object.assign(state, { notifications, unread, failed: false });
    } catch {
      state.failed = true;
    }
  }

  function receive(notification) {
    if (state.notifications.some((shown) => shown.id === notification.id)) {
      return; // already read by a resync that raced the event
    }
    state.notifications = [notification, ...state.notifications].slice(0, SHOWN);
    state.unread += 1;
    if (state.open) {
      markRead(); // it is in front of the driver already
    }
  }

  // Marks what the panel shows as read, up to its newest: one arriving meanwhile stays unread.
  async function markRead() {
    const newest = state.notifications[0];
    if (!newest || state.unread === 0 || state.marking) {
      return;
    }
    state.marking = true;
    try {
      const { unread_count: unread } = await api.markNotificationsRead(newest.id);
      const now = new Date().toISOString();
      state.notifications = state.notifications.map((n) => (n.id <= newest.id && !n.read_at ? { ...n, read_at: now } : n));
      state.unread = unread;
    } catch {
      // The count stays; the next opening tries again.
    } finally {
      state.marking = false;
    }
  }

  function toggle() {
    state.open = !state.open;
    if (state.open) {
      markRead();
    }
  }

  function close() {
    state.open = false;
  }

  return { state, load, receive, toggle, close };
}
