/**
 * The single place where log redaction is defined (house style 10).
 * Paths follow pino's `redact` syntax. Anything that could carry card data or secrets is censored
 * even though the code is written never to log it: defence in depth (PCI DSS 4.0 req. 3.3, 10.3).
 */
export const REDACT_PATHS: readonly string[] = [
  'pan', '*.pan', 'cardNumber', '*.cardNumber', 'card_number', '*.card_number',
  'securityCode', '*.securityCode', 'cvv', '*.cvv', 'cvc', '*.cvc',
  'digits', '*.digits', 'digit', '*.digit',
  'password', '*.password', 'totp', '*.totp', 'secret', '*.secret', 'apiKey', '*.apiKey',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]',
  'headers.authorization', 'headers.cookie',
];
export const REDACT_CENSOR = '[redacted]';
