export { stepFunctionsAuditRunner } from './step-functions-audit';
