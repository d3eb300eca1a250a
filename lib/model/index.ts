export * from './resources';
export * from './task';
export * from './vm';
