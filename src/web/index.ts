export { registerConsoleRoutes, CONSOLE_PATH, type ConsoleRouteOptions } from './console-routes.ts';
export { buildConsoleBundle, consoleBundle, WEB_DIR, type ConsoleBundle } from './console-bundle.ts';
