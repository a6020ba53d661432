-- A CRM's own id for the user behind a platform agent id (a Salesforce or
-- HubSpot user id beside the Dialpad user id): a CRM syncing mappings, or
-- looking up who an agent is, knows its own ids, not the platform's. One
-- agent per CRM id per platform.
ALTER TABLE external_users ADD COLUMN crm_id TEXT;
CREATE UNIQUE INDEX external_users_crm_id ON external_users (platform, crm_id)
    WHERE crm_id IS NOT NULL;
