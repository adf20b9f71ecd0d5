import { Component } from '../core/Component.js';
import { AuthService } from '../services/AuthService.js';
import { DateHelper } from '../services/DateHelper.js';

export class SlotsPage extends Component {
  constructor(element, router) {
    super(element);
    this.router = router;
  }

  template() {
    const user = AuthService.getCurrentUser();
    const days = DateHelper.getNextDays(3);
    const options = days
      .map((day, index) => `<option value="${day.value}"${index === 0 ? ' selected' : ''}>${day.label} (${day.displayDate})</option>`)
      .join('');

    return `
      <div class="page slots-page">
        <header class="header">
          <h1 class="logo">SmartParking</h1>
          <div class="header-actions">
            <span class="user-greeting">Hello, ${user.username}</span>
            <button id="logout-btn" type="button" class="btn btn-secondary">Logout</button>
          </div>
        </header>
        <main class="content">
          <div class="card date-card">
            <label for="date-select">Select a date</label>
            <select id="date-select">${options}</select>
          </div>
          <div id="parking-slots-view" class="slots-container">
            <p class="placeholder">Select a date above to view available slots</p>
          </div>
        </main>
      </div>
    `;
  }

  afterRender() {
    this.element.querySelector('#logout-btn').addEventListener('click', () => {
      AuthService.logout();
      this.router.navigate('/login');
    });

    this.element.querySelector('#date-select').addEventListener('change', (event) => {
      window.dispatchEvent(new CustomEvent('parking-date-change', { detail: event.target.value }));
    });
  }
}
