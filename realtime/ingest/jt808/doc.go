// Package jt808 speaks JT/T 808 (2013 and 2019), the protocol of Chinese
// vehicle terminals over TCP: the frame and message codec, location
// reports (0x0200) and their batches (0x0704), and the server that
// registers and authenticates terminals against the device registry and
// ingests their locations.
package jt808
