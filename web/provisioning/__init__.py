"""Admin REST over ARA for the caller's tenant: PJSIP extensions (``ps_endpoints``/``ps_auths``/``ps_aors``,
registration from ``ps_contacts``) and DIDs (``dids``, bounded by ``tenants.max_dids``)."""
