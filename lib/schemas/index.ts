export * from './task-input';
