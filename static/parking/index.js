// Entry point of the Vue parking island: mount(el, options) returns its handle, {selectDate, unmount}.
import { createApp } from 'vue';
import { createApi } from './api.js';
import { connectSocket } from './socket.js';
import { createStatsStore } from './stats.js';
import { createStore } from './store.js';
import { ParkingGrid } from './components/ParkingGrid.js';

/**
 * Mounts the parking grid into `el` and starts its live updates.
 *
 * options.initialDate      the lot date to show first, YYYY-MM-DD
 * options.getToken()       the current JWT, or null once it has expired
 * options.currentUser      {id, ...}: whose bookings are shown as "mine"
 * options.onUnauthorized() called at most once, when the API or socket rejects the session
 *
 * The host owns the date picker and calls handle.selectDate(date) when it changes;
 * handle.unmount() stops everything for good. el.dataset.socket says "open" or "closed".
 */
export function mount(el, { initialDate, getToken, currentUser, onUnauthorized }) {
  let mounted = true;
  // The host tears the island down in response, so a second 401 must not navigate twice.
  const unauthorized = () => {
    if (mounted) {
      unmount();
      onUnauthorized();
    }
  };

  const api = createApi({ getToken });
  const stats = createStatsStore({ api, onUnauthorized: unauthorized });
  const store = createStore({ api, currentUser, onUnauthorized: unauthorized, onChange: stats.refreshSoon });

  el.dataset.socket = 'closed';
  const socket = connectSocket({
    getToken,
    // Changes made while the socket was not listening show up in the snapshot and the chart.
    onResync: () => {
      store.refresh();
      stats.refreshSoon();
    },
    onEvent: store.applyEvent,
    onUnauthorized: unauthorized,
    onStatusChange: (status) => {
      el.dataset.socket = status;
    },
  });
  store.selectDate(initialDate);
  stats.refresh();

  const app = createApp(ParkingGrid, { store, stats });
  app.mount(el);

  function unmount() {
    if (!mounted) {
      return;
    }
    mounted = false;
    socket.stop();
    stats.stop();
    api.abort();
    app.unmount();
  }

  function selectDate(date) {
    if (mounted) {
      store.selectDate(date);
    }
  }

  return { selectDate, unmount };
}
