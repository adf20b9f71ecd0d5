import { Component } from '../core/Component.js';
import { AuthService } from '../services/AuthService.js';

export class LoginPage extends Component {
  constructor(element, router) {
    super(element);
    this.router = router;
  }

  template() {
    return `
      <div class="page login-page">
        <div class="card login-card">
          <h1 class="logo">SmartParking</h1>
          <p class="subtitle">Sign in to manage your parking</p>
          <form id="login-form">
            <div class="form-group">
              <!-- Integration: the backend signs in by email; the id stays #username -->
              <label for="username">Email</label>
              <input id="username" name="username" type="email" autocomplete="username" required />
            </div>
            <div class="form-group">
              <label for="password">Password</label>
              <input id="password" name="password" type="password" autocomplete="current-password" required />
            </div>
            <p class="error-msg" role="alert"></p>
            <button id="submit-btn" type="submit" class="btn btn-primary">Sign in</button>
          </form>
        </div>
      </div>
    `;
  }

  afterRender() {
    this.element.querySelector('#login-form').addEventListener('submit', (event) => this.handleSubmit(event));
    // Integration: say why the driver is back here after the server rejected the session
    this.element.querySelector('.error-msg').textContent = AuthService.takeSessionMessage() ?? '';
  }

  async handleSubmit(event) {
    event.preventDefault();
    const card = this.element.querySelector('.login-card');
    const errorMsg = this.element.querySelector('.error-msg');
    const submitBtn = this.element.querySelector('#submit-btn');
    const username = this.element.querySelector('#username').value.trim();
    const password = this.element.querySelector('#password').value;

    errorMsg.textContent = '';
    card.classList.remove('error-shake');
    submitBtn.disabled = true;
    submitBtn.innerHTML = '<span class="loading"></span>';

    try {
      await AuthService.login(username, password);
      this.router.navigate('/slots');
    } catch (error) {
      errorMsg.textContent = error.message;
      void card.offsetWidth; // restart the shake animation
      card.classList.add('error-shake');
      submitBtn.disabled = false;
      submitBtn.textContent = 'Sign in';
    }
  }
}
