#!/usr/bin/env node
// The built CLI lives in dist/ (npm ci runs the build through `prepare`).
import '../dist/platform/node/main.js';
