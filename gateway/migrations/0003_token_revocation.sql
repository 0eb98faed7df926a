-- Revocation for JWTs: a token issued before tokens_valid_after is refused (set by `hiremesh users revoke`,
-- `disable` and `role`), so a revoked or demoted user's JWTs stop working within the gateway's cache time.
ALTER TABLE auth.users ADD COLUMN tokens_valid_after timestamptz;
