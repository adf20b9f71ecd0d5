// Live updates over /ws: authenticates, reconnects (at once after a restart, else with
// backoff), and can be stopped for good.

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;
const CLOSE_UNAUTHORIZED = 4401; // the server's close code for a missing, invalid or expired token
// 1001 "server restarting": this instance is stopping and the load balancer already sends
// new connections to another, so reconnect at once. The jitter spreads the sockets a
// restart closes together, so that they do not all land in the same instant.
const CLOSE_GOING_AWAY = 1001;
const GOING_AWAY_JITTER_MS = 500;
const CLOSE_POLICY_VIOLATION = 1008;
// How the server's reason starts when the account has too many sockets open (server/hub.py).
// A 1008 for other reasons (a client too slow to read) is worth a reconnect; this one is not.
const TOO_MANY_SOCKETS = 'too many open sockets';
// A token refused again on the next attempt is refused for good (the server's secret
// changed, the user is gone, or it expired by the server's clock): reconnecting cannot
// fix that. One retry is for the case it can fix, an auth message that arrived too late.
const REFUSALS_THAT_END_THE_SESSION = 2;

export function connectSocket({ getToken, onResync, onEvent, onUnauthorized, onTooManyTabs, onStatusChange }) {
  let socket = null;
  let retryTimer = null;
  let failedAttempts = 0;
  let refusalsInARow = 0;

  function open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    // An expired token (null) is sent anyway: the server answers 4401 and onclose handles it.
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token: getToken() }));
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === 'ready') {
        failedAttempts = 0;
        refusalsInARow = 0;
        onStatusChange('open');
        onResync(); // events sent while we were not connected are lost: refetch the snapshot
      } else if (data.type === 'resync') {
        onResync();
      } else {
        onEvent(data);
      }
    };
    socket.onclose = (event) => {
      socket = null;
      onStatusChange('closed');
      if (event.code === CLOSE_POLICY_VIOLATION && event.reason.startsWith(TOO_MANY_SOCKETS)) {
        // Reconnecting would be refused the same way until another tab closes: say so, and stop.
        onTooManyTabs();
        return;
      }
      refusalsInARow = event.code === CLOSE_UNAUTHORIZED ? refusalsInARow + 1 : 0;
      // Expired by our own clock, or refused twice running: the session is over.
      if (refusalsInARow > 0 && (getToken() === null || refusalsInARow >= REFUSALS_THAT_END_THE_SESSION)) {
        onUnauthorized();
      } else if (refusalsInARow > 0) {
        retryTimer = setTimeout(open, FIRST_RETRY_MS); // settle a refusal now, not after a long backoff
      } else if (event.code === CLOSE_GOING_AWAY) {
        failedAttempts = 0; // a restart is no failure: if this attempt fails, backoff starts afresh
        retryTimer = setTimeout(open, Math.random() * GOING_AWAY_JITTER_MS);
      } else {
        scheduleRetry();
      }
    };
  }

  function scheduleRetry() {
    // Exponential backoff with "equal jitter": half the delay fixed, half random,
    // so clients dropped together do not reconnect in lockstep.
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failedAttempts);
    failedAttempts += 1;
    retryTimer = setTimeout(open, delay / 2 + Math.random() * (delay / 2));
  }

  function stop() {
    clearTimeout(retryTimer);
    if (socket !== null) {
      // Detach first, so the close event that follows cannot schedule a reconnect.
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close();
      socket = null;
    }
    onStatusChange('closed');
  }

  open();
  return { stop };
}
