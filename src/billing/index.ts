/** Metering and billing (issue 5): price plans, secure-audio metering, monthly invoice-style reports. */
export {
  BillingReporter, billingReportCsv, dailyTransactionsCsv, minuteCharge, monthRange, type BillingReport, type DailyTransactions, type Invoice, type InvoiceLine,
} from './report.ts';
export { SecureAudioMeter, type Channel } from './metering.ts';
export { CHANNELS, DEFAULT_PLAN_ID, OUTCOMES, PricePlans, transactionFee, validatePlan, type PricePlan, type PricePlanInput } from './price-plan.ts';
export type { BillingDatabase, PricePlansTable, SecureAudioUsageTable } from './schema.ts';
