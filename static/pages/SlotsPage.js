import { Component } from '../core/Component.js';
import { AuthService } from '../services/AuthService.js';
import { DateHelper } from '../services/DateHelper.js';
// Integration: the Vue parking island
import { mount as mountParkingView } from '../parking/index.js';

export class SlotsPage extends Component {
  constructor(element, router) {
    super(element);
    this.router = router;
  }

  template() {
    const user = AuthService.getCurrentUser();
    // Integration: the options come from the lot's calendar once the island has read it (see showLotCalendar)
    const options = '<option value="">Loading the lot’s calendar…</option>';

    return `
      <div class="page slots-page">
        <header class="header">
          <h1 class="logo">SmartParking</h1>
          <div class="header-actions">
            <!-- Integration: the name is set with textContent in afterRender, never parsed as HTML -->
            <span class="user-greeting">Hello, <span id="user-name"></span></span>
            <button id="logout-btn" type="button" class="btn btn-secondary">Logout</button>
          </div>
        </header>
        <main class="content">
          <div class="card date-card">
            <label for="date-select">Select a date</label>
            <!-- Integration: disabled until the lot's calendar has arrived -->
            <select id="date-select" disabled>${options}</select>
          </div>
          <div id="parking-slots-view" class="slots-container">
            <p class="placeholder">Select a date above to view available slots</p>
          </div>
        </main>
      </div>
    `;
  }

  afterRender() {
    // Integration: the API user has a display_name; text, not HTML
    this.element.querySelector('#user-name').textContent = AuthService.getCurrentUser().display_name;

    this.element.querySelector('#logout-btn').addEventListener('click', () => {
      AuthService.logout();
      this.router.navigate('/login');
    });

    this.element.querySelector('#date-select').addEventListener('change', (event) => {
      window.dispatchEvent(new CustomEvent('parking-date-change', { detail: event.target.value }));
      // Integration: this is where the Vue island follows the vanilla date dropdown (the brief's contract)
      this.parkingView.selectDate(event.target.value);
    });

    // Integration: mount the Vue island into the container rendered above; it starts on the lot's today
    this.parkingView = mountParkingView(this.element.querySelector('#parking-slots-view'), {
      onLotChange: (calendar, date) => this.showLotCalendar(calendar, date),
      getToken: () => AuthService.getToken(),
      currentUser: AuthService.getCurrentUser(),
      onUnauthorized: () => {
        AuthService.expireSession();
        this.router.navigate('/login');
      },
    });
  }

  // Integration: the dropdown offers the lot's calendar, today to the last bookable day, as the island reports it
  showLotCalendar(calendar, date) {
    const count = Math.round((Date.parse(calendar.last_bookable_day) - Date.parse(calendar.today)) / 86_400_000) + 1;
    const select = this.element.querySelector('#date-select');
    select.replaceChildren(
      ...DateHelper.getNextDays(count, calendar.today).map((day) => new Option(`${day.label} (${day.displayDate})`, day.value)),
    );
    select.value = date;
    select.disabled = false;
  }

  // Integration: called by the Router on logout or navigation, so the island's socket and listeners go too
  destroy() {
    this.parkingView.unmount();
  }
}
