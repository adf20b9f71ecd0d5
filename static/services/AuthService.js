const STORAGE_KEY = 'parking_auth_token';

const USERS = [{ username: 'test', password: 'test' }];

function readSession() {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  return stored ? JSON.parse(stored) : null;
}

export const AuthService = {
  login(username, password) {
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        const user = USERS.find((u) => u.username === username && u.password === password);
        if (!user) {
          reject({ message: 'Invalid credentials' });
          return;
        }
        const session = { token: 'fake-jwt-token', user: { username: user.username } };
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
        resolve(session.user);
      }, 300);
    });
  },

  logout() {
    sessionStorage.removeItem(STORAGE_KEY);
  },

  isLoggedIn() {
    return readSession() !== null;
  },

  getCurrentUser() {
    const session = readSession();
    return session ? session.user : null;
  },
};
