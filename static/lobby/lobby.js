// The lobby screen: today's free spots per floor and slot, live over /ws with the screen's key.
//
// Read-only and anonymous: the server sends this page counts and spot numbers only. The key
// comes from the page's own URL (/lobby?key=...) and goes to the socket in its first message.

const key = new URLSearchParams(location.search).get('key') ?? '';
const REFRESH_MS = 60_000; // slots start and end as the day goes on, with or without bookings
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
const CLOSE_LOBBY_KEY = 4404; // the key was replaced: this URL is dead

const boardEl = document.getElementById('lobby-board');
const statusEl = document.getElementById('lobby-status');
const clockEl = document.getElementById('lobby-clock');
const zoneEl = document.getElementById('lobby-zone');
let timezone = 'UTC';
let retries = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function spotList(numbers) {
  return numbers.map((number) => `#${number}`).join(' ');
}

// One cell: the count, in large type, and which spots; "ended" once the slot is over.
function cell(slot, counts, floorNumber, index) {
  const node = element('div', `lobby-cell lobby-cell-${slot.state}`);
  node.dataset.floor = String(floorNumber);
  node.dataset.slot = String(index);
  if (slot.state === 'ended') {
    node.append(element('span', 'lobby-ended', 'ended'));
    return node;
  }
  const count = element('span', 'lobby-count', String(counts.free_count));
  count.classList.toggle('lobby-count-none', counts.free_count === 0);
  node.append(count, element('span', 'lobby-free-label', counts.free_count === 1 ? 'spot free' : 'spots free'));
  if (counts.free_spots.length) {
    node.append(element('span', 'lobby-spots', spotList(counts.free_spots)));
  }
  if (counts.closed_spots.length) {
    node.append(element('span', 'lobby-closed', `closed: ${spotList(counts.closed_spots)}`));
  }
  return node;
}

function render(board) {
  timezone = board.timezone;
  zoneEl.textContent = board.timezone;
  const grid = element('div', 'lobby-grid');
  grid.style.setProperty('--slots', String(board.slots.length));
  grid.append(element('div', 'lobby-corner'));
  for (const slot of board.slots) {
    const head = element('div', `lobby-slot lobby-slot-${slot.state}`, slot.label);
    if (slot.state === 'now') {
      head.append(element('span', 'lobby-now', 'now'));
    }
    grid.append(head);
  }
  for (const floor of board.floors) {
    grid.append(element('div', 'lobby-floor', `Level ${floor.floor_number}`));
    floor.slots.forEach((counts, index) => grid.append(cell(board.slots[index], counts, floor.floor_number, index)));
  }
  boardEl.replaceChildren(grid);
  boardEl.dataset.date = board.date;
  tick();
}

function tick() {
  clockEl.textContent = new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: timezone });
}

async function load() {
  try {
    const response = await fetch(`/lobby/board?key=${encodeURIComponent(key)}`, { cache: 'no-store' });
    if (response.status === 404) {
      statusEl.textContent = 'This screen’s link has been replaced. Ask the attendant for the new one.';
      return false;
    }
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    render(await response.json());
    statusEl.textContent = '';
    return true;
  } catch {
    statusEl.textContent = 'Reconnecting…';
    return true;
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => socket.send(JSON.stringify({ type: 'lobby', key }));
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === 'ready') {
      retries = 0;
      document.body.dataset.socket = 'open';
      load(); // what changed while the socket was away
    } else if (data.type === 'lobby.board') {
      render(data);
    } else if (data.type === 'resync') {
      load();
    }
  };
  socket.onclose = async (event) => {
    document.body.dataset.socket = 'closed';
    if (event.code === CLOSE_LOBBY_KEY && !(await load())) {
      return; // replaced for good: nothing to reconnect to
    }
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retries);
    retries += 1;
    setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
  };
}

load().then((valid) => {
  if (valid) {
    connect();
    setInterval(load, REFRESH_MS);
    setInterval(tick, 10_000);
  }
});
