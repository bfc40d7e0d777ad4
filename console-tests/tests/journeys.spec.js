// Journeys through the console as its users take them, each leaving a screenshot in
// console-tests/screenshots/ (kept by CI), and an accessibility check on every page it opens.
const { test, expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;

const ADMIN = { username: 'admin', password: 'console-admin-password' };
const SHOTS = process.env.FREEPORT_SCREENSHOTS || 'screenshots';

/** No serious or critical accessibility violation on the page as it stands. */
async function accessible(page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

async function signIn(page, { username, password }) {
  await page.goto('/');
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(password);
  await page.getByRole('button', { name: /登录|Sign in/ }).click();
}

/** An API token for the administrator, to set up what a journey needs. */
async function adminToken(request) {
  const r = await request.post('/api/v1/sessions', { data: ADMIN });
  expect(r.status()).toBe(201);
  return (await r.json()).token;
}

test('a wrong password is refused, then the administrator lands on the monitoring centre', async ({ page }) => {
  await signIn(page, { username: 'admin', password: 'not-the-password' });
  await expect(page.getByRole('alert')).toHaveText('用户名或密码错误');
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/01-wrong-password.png`, fullPage: true });
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/console\/monitoring$/);
  await expect(page.getByRole('heading', { name: /待处置预警/ })).toBeVisible();
  await expect(page.getByRole('cell', { name: '海口港' })).toBeVisible();
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/02-monitoring.png`, fullPage: true });
  // The duty-free pages customs opens from the centre pass the same check.
  await page.getByRole('link', { name: '旅客免税额度' }).click();
  await expect(page.getByRole('group', { name: '旅客' })).toBeVisible();
  await accessible(page);
  await page.getByRole('link', { name: '免税商品溯源' }).click();
  await expect(page.getByLabel('溯源码（16 位）')).toBeVisible();
  await accessible(page);
});

test('the keyboard alone signs in', async ({ page }) => {
  await page.goto('/login');
  await expect(page.getByLabel('用户名')).toBeFocused();
  await page.keyboard.type(ADMIN.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/console\/monitoring$/);
});

test('the language switch turns every label to English and back', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: /Open alerts/ })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/03-english.png`, fullPage: true });
  await page.getByRole('link', { name: '中文' }).click();
  await expect(page.getByRole('heading', { name: /待处置预警/ })).toBeVisible();
});

test('an enterprise user lands on its own home and is refused the monitoring centre', async ({ page, request }) => {
  const token = await adminToken(request);
  const code = '91460000MA5T00001F';
  const auth = { Authorization: `Bearer ${token}` };
  let r = await request.put(`/api/v1/enterprises/${code}`, {
    headers: { ...auth, 'Idempotency-Key': 'console-e' },
    data: { name: 'Haikou Trading', beneficiary: true, encouraged_industry_filed: true },
  });
  expect(r.status()).toBe(200);
  r = await request.post('/api/v1/users', {
    headers: { ...auth, 'Idempotency-Key': 'console-u' },
    data: { username: 'trader', password: 'trader-password-1', role: 'enterprise_user', enterprise: code },
  });
  expect(r.status()).toBe(201);
  await signIn(page, { username: 'trader', password: 'trader-password-1' });
  await expect(page).toHaveURL(/\/console\/enterprise$/);
  await expect(page.getByText('暂无申报单')).toBeVisible();
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/04-enterprise.png`, fullPage: true });
  const refused = await page.goto('/console/monitoring');
  expect(refused.status()).toBe(403);
  await expect(page.getByRole('heading', { name: '无权访问' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/05-refused.png`, fullPage: true });
  // No link to the item trace, and a direct request is refused.
  await expect(page.getByRole('link', { name: '免税商品溯源' })).toHaveCount(0);
  expect((await page.goto('/console/items')).status()).toBe(403);
  // Signing out revokes the session: the home asks for sign-in again.
  await page.goto('/console/enterprise');
  await page.getByRole('button', { name: '退出' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/console/enterprise');
  await expect(page).toHaveURL(/\/login$/);
});

test('an administrator puts a port in an emergency mode from the page and the centre shows it at once', async ({ page }) => {
  await signIn(page, ADMIN);
  const form = page.getByRole('group', { name: '设置口岸运行模式' });
  await form.getByLabel('口岸', { exact: true }).selectOption('yangpu');
  await form.getByLabel('运行模式').selectOption('scanners_down');
  await form.getByLabel('原因').fill('H986 年度检修');
  await form.getByRole('button', { name: '确定' }).click();
  await expect(page).toHaveURL(/\/console\/monitoring$/);
  const row = page.getByRole('row', { name: /洋浦港/ });
  await expect(row).toContainText('H986 设备故障');
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/06-port-mode.png`, fullPage: true });
  // Back to normal, from the same form.
  await form.getByLabel('口岸', { exact: true }).selectOption('yangpu');
  await form.getByLabel('运行模式').selectOption('normal');
  await form.getByLabel('原因').fill('检修完成');
  await form.getByRole('button', { name: '确定' }).click();
  await expect(page.getByRole('row', { name: /洋浦港/ })).toContainText('正常');
});
