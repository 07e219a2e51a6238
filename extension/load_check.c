/*
 * extension/load_check.c: every sample belongs to a load, without a lookup
 * per row.
 *
 * A foreign key from smtp_sample to load checks each inserted row on its
 * own (an index probe and a row lock through SPI per row): it made the
 * loader's binary COPY several times slower. Samples arrive in loads of
 * millions of rows that all carry the same load_id, so the check here runs
 * as a CHECK constraint and remembers the last load it found, for the rest
 * of the (sub)transaction. Like PostgreSQL's own RI check it locks the load
 * row FOR KEY SHARE, so a concurrent DELETE of that load waits for the
 * inserting transaction, and then its cascade (a statement trigger on
 * spamhints.load) sees and deletes the new samples too.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "spamhints.h"

PG_FUNCTION_INFO_V1(spamhints_load_exists);
PG_FUNCTION_INFO_V1(spamhints_load_changed);

/* The last load found, and in which (sub)transaction: its lock is held there. */
static int32 cached_load_id;
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
static SubTransactionId cached_subxid = InvalidSubTransactionId;

static SPIPlanPtr lock_plan = NULL;

/*
 * load_exists(load_id) -> true, or an error (23503) when there is no such
 * load. Meant for the CHECK constraint of spamhints.smtp_sample.
 */
Datum
spamhints_load_exists(PG_FUNCTION_ARGS)
{
	int32		load_id = PG_GETARG_INT32(0);
	Datum		arg = Int32GetDatum(load_id);
	bool		found;

	if (cached_lxid == MyProc->lxid &&
		cached_subxid == GetCurrentSubTransactionId() &&
		cached_load_id == load_id)
		PG_RETURN_BOOL(true);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (lock_plan == NULL)
	{
		Oid			argtype = INT4OID;
		SPIPlanPtr	plan = SPI_prepare("SELECT 1 FROM spamhints.load x "
									   "WHERE x.load_id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
									   1, &argtype);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		lock_plan = plan;
	}
	if (SPI_execute_plan(lock_plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");
	found = SPI_processed == 1;
	SPI_finish();

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("load %d does not exist", load_id),
				 errdetail("Every row of spamhints.smtp_sample belongs to a row of spamhints.load.")));

	cached_load_id = load_id;
	cached_lxid = MyProc->lxid;
	cached_subxid = GetCurrentSubTransactionId();
	PG_RETURN_BOOL(true);
}

/*
 * Is spamhints.smtp_sample open in this session already, so that TRUNCATE of
 * it would fail? Either the same TRUNCATE statement holds it (it will be
 * emptied anyway) or a query or cursor reads it (then the AFTER TRUNCATE
 * trigger deletes its rows).
 */
static bool
samples_in_use(Oid nspid)
{
	Oid			relid = get_relname_relid("smtp_sample", nspid);
	Relation	rel;
	bool		in_use;

	if (!OidIsValid(relid))
		elog(ERROR, "spamhints.smtp_sample does not exist");
	rel = table_open(relid, AccessExclusiveLock);
	in_use = rel->rd_refcnt > 1 || AfterTriggerPendingOnRel(relid);
	table_close(rel, NoLock);
	return in_use;
}

/*
 * The trigger on spamhints.load that keeps samples and loads together:
 *   AFTER DELETE FOR EACH STATEMENT (transition table old_loads): delete the
 *     samples of the deleted loads;
 *   BEFORE TRUNCATE: truncate the samples too, unless this session uses
 *     them already (they are in the same TRUNCATE, or a cursor reads them:
 *     TRUNCATE would fail with "being used by active queries");
 *   AFTER TRUNCATE: delete the samples left (none, but in the second case);
 *   BEFORE UPDATE FOR EACH ROW: refuse to change a load's load_id.
 * Each forgets the load load_exists() remembered, since it may be gone.
 */
Datum
spamhints_load_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("load_changed() must be called as a trigger")));
	event = trigdata->tg_event;
	cached_lxid = InvalidLocalTransactionId;

	if (TRIGGER_FIRED_BY_UPDATE(event) && TRIGGER_FIRED_FOR_ROW(event))
	{
		bool		old_null,
					new_null;
		Datum		old_id = heap_getattr(trigdata->tg_trigtuple, 1,
										  RelationGetDescr(trigdata->tg_relation), &old_null);
		Datum		new_id = heap_getattr(trigdata->tg_newtuple, 1,
										  RelationGetDescr(trigdata->tg_relation), &new_null);

		if (old_null != new_null || DatumGetInt32(old_id) != DatumGetInt32(new_id))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("the load_id of a load cannot change"),
					 errdetail("Its samples in spamhints.smtp_sample refer to it.")));
		return PointerGetDatum(trigdata->tg_newtuple);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (TRIGGER_FIRED_BY_DELETE(event) && TRIGGER_FIRED_FOR_STATEMENT(event))
	{
		if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "SPI_register_trigger_data failed");
		if (SPI_execute("DELETE FROM spamhints.smtp_sample s USING old_loads o "
						"WHERE s.load_id OPERATOR(pg_catalog.=) o.load_id", false, 0) != SPI_OK_DELETE)
			elog(ERROR, "deleting the samples of deleted loads failed");
	}
	else if (TRIGGER_FIRED_BY_TRUNCATE(event) && TRIGGER_FIRED_BEFORE(event))
	{
		if (!samples_in_use(RelationGetNamespace(trigdata->tg_relation)) &&
			SPI_execute("TRUNCATE spamhints.smtp_sample", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "truncating the samples failed");
	}
	else if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		if (SPI_execute("DELETE FROM spamhints.smtp_sample", false, 0) != SPI_OK_DELETE)
			elog(ERROR, "deleting the samples of truncated loads failed");
	}
	else
		elog(ERROR, "load_changed(): unexpected trigger event %u", event);
	SPI_finish();
	return PointerGetDatum(NULL);
}
