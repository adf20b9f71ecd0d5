// Entry point of the Vue parking island: mount(el, options) returns unmount().
import { createApp } from 'vue';
import { createApi } from './api.js';
import { connectSocket } from './socket.js';
import { createStore } from './store.js';
import { ParkingGrid } from './components/ParkingGrid.js';

/**
 * Mounts the parking grid into `el` and starts its live updates.
 *
 * options.getToken()       the current JWT, or null once it has expired
 * options.currentUser      {id, ...}: whose bookings are shown as "mine"
 * options.onUnauthorized() called at most once, when the API or socket rejects the session
 *
 * The initial date is read from #date-select; later ones arrive as the
 * `parking-date-change` window event. el.dataset.socket says "open" or "closed".
 */
export function mount(el, { getToken, currentUser, onUnauthorized }) {
  let mounted = true;
  // The host tears the island down in response, so a second 401 must not navigate twice.
  const unauthorized = () => {
    if (mounted) {
      unmount();
      onUnauthorized();
    }
  };

  const api = createApi({ getToken });
  const store = createStore({ api, currentUser, onUnauthorized: unauthorized });
  const onDateChange = (event) => store.selectDate(event.detail);

  el.dataset.socket = 'closed';
  const socket = connectSocket({
    getToken,
    onResync: store.refresh,
    onEvent: store.applyEvent,
    onUnauthorized: unauthorized,
    onStatusChange: (status) => {
      el.dataset.socket = status;
    },
  });
  window.addEventListener('parking-date-change', onDateChange);
  store.selectDate(document.getElementById('date-select').value);

  const app = createApp(ParkingGrid, { store });
  app.mount(el);

  function unmount() {
    if (!mounted) {
      return;
    }
    mounted = false;
    window.removeEventListener('parking-date-change', onDateChange);
    socket.stop();
    api.abort();
    app.unmount();
  }

  return unmount;
}
