export { HttpWitnessClient } from './http-witness-client';
