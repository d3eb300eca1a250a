import { algorithmNames } from '../../lib/scheduling/registry';
import { describeAlgorithmContract } from './algorithms.case';

// Every registered algorithm, so a new one cannot skip the contract.
for (const name of algorithmNames()) describeAlgorithmContract(name);
