// Package freshness keeps bundles in order on their channel
// (docs/format.md section 5, Freshness and Channel state): on the
// connected side it hands out sequence numbers from a state file beside
// the signing key (Reserve), never the same twice; on the disconnected
// side it checks a bundle against the channel state kept in the bucket
// (Check), refusing a replayed older bundle or an expired one, and moves
// that state forward with conditional writes once the import is done
// (Accept), so the state never goes back.
package freshness
