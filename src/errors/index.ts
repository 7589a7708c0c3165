export { CardlineError, ERROR_CATALOGUE, isCardlineError, type ErrorCode } from './catalogue.ts';
