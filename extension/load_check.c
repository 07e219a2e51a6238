/*
 * extension/load_check.c: every row belongs to a load, without a lookup per
 * row; and a role that does not own the tables may write only to the loads
 * its own transaction created and has not finished yet.
 *
 * A foreign key from smtp_sample to load checks each inserted row on its
 * own (an index probe and a row lock through SPI per row): it made the
 * loader's binary COPY several times slower. Samples arrive in loads of
 * millions of rows that all carry the same load_id, so the check here runs
 * as a CHECK constraint and remembers the last load it found, for the rest
 * of the (sub)transaction. Like PostgreSQL's own RI check it locks the load
 * row FOR KEY SHARE (as the table's owner), so a concurrent DELETE of that
 * load waits for the inserting transaction, and then its cascade (a
 * statement trigger on spamhints.load) sees and deletes the new samples too.
 *
 * The fence (spamhints_loader, or any role that is not the owner of the
 * load tables nor a member of that owner): a committed load is evidence
 * ("load 1 frame N" leads back to a datagram of a file whose SHA-256 is
 * kept), so such a role
 *   - adds rows (samples, agents, mail events) only to a load whose row its
 *     own transaction inserted and that is not finished: load_exists() and
 *     maillog_load_exists() check it on the cache miss, once per load;
 *   - inserts a load row only unfinished and without a hash, changes or
 *     deletes only such a row of its own transaction, and commits none left
 *     unfinished: load_guard(), a row trigger (a few rows per load);
 *   - updates, deletes or truncates no sample, agent or mail event at all:
 *     load_guard() as a statement trigger, once per statement.
 * The owner (the extension's installer, a superuser) keeps every power:
 * DELETE of loads, purge(), reenrich(), TRUNCATE, hand-made loads.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "spamhints.h"

PG_FUNCTION_INFO_V1(spamhints_load_exists);
PG_FUNCTION_INFO_V1(spamhints_maillog_load_exists);
PG_FUNCTION_INFO_V1(spamhints_load_changed);
PG_FUNCTION_INFO_V1(spamhints_load_guard);
PG_FUNCTION_INFO_V1(spamhints_owns_table);

/* The two kinds of load: captures and mail logs. */
typedef enum LoadKind
{
	LOAD_CAPTURE,
	LOAD_MAILLOG,
	LOAD_KINDS
} LoadKind;

typedef struct LoadTable
{
	const char *table;			/* in schema spamhints */
	const char *id_column;
	const char *rows;			/* what its rows are, for messages */
	const char *lookup_sql;		/* $1 = the id: is it open to this transaction? */
} LoadTable;

static const LoadTable load_tables[LOAD_KINDS] = {
	{"load", "load_id", "samples and agents",
		"SELECT x.xmin, x.finished_at IS NULL FROM spamhints.load x "
	"WHERE x.load_id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x"},
	{"maillog_load", "maillog_load_id", "mail events",
		"SELECT x.xmin, x.finished_at IS NULL FROM spamhints.maillog_load x "
	"WHERE x.maillog_load_id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x"},
};

/*
 * The last load found of each kind, in which (sub)transaction (its lock is
 * held there) and for which user: it may be written to until then.
 */
typedef struct LoadCache
{
	int32		load_id;
	LocalTransactionId lxid;
	SubTransactionId subxid;
	Oid			userid;
	SPIPlanPtr	plan;
} LoadCache;

static LoadCache load_cache[LOAD_KINDS] = {
	{0, InvalidLocalTransactionId, InvalidSubTransactionId, InvalidOid, NULL},
	{0, InvalidLocalTransactionId, InvalidSubTransactionId, InvalidOid, NULL},
};

static void
forget_loads(void)
{
	for (int k = 0; k < LOAD_KINDS; k++)
		load_cache[k].lxid = InvalidLocalTransactionId;
}

static Oid
load_table_oid(LoadKind kind)
{
	Oid			nspid = get_namespace_oid("spamhints", false);
	Oid			relid = get_relname_relid(load_tables[kind].table, nspid);

	if (!OidIsValid(relid))
		elog(ERROR, "spamhints.%s does not exist", load_tables[kind].table);
	return relid;
}

static Oid
rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Does the current user own the relation (or is a member of its owner, or a superuser)? */
static bool
owns_relation(Oid relid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, GetUserId());
#else
	return pg_class_ownercheck(relid, GetUserId());
#endif
}

/*
 * owns_table(regclass): does the current user own it (or is a member of its
 * owner, or a superuser)? The WHEN of the deferred fence triggers: the owner
 * queues no event, so its TRUNCATE after an INSERT in one transaction works.
 */
Datum
spamhints_owns_table(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(owns_relation(PG_GETARG_OID(0)));
}

static const char *
current_role_name(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/*
 * The check behind "every row belongs to a load": true, or an error. 23503
 * when there is no such load (or another session's, not committed yet);
 * 42501 when the caller does not own the load tables and the load is not one
 * its own transaction created, or is finished.
 */
static bool
load_open_check(LoadKind kind, int32 load_id)
{
	LoadCache  *c = &load_cache[kind];
	const LoadTable *t = &load_tables[kind];
	Datum		arg = Int32GetDatum(load_id);
	Oid			relid,
				owner,
				save_userid;
	int			save_sec;
	bool		found,
				isnull,
				unfinished = false,
				own = false;

	if (c->lxid == MyProc->lxid &&
		c->subxid == GetCurrentSubTransactionId() &&
		c->load_id == load_id && c->userid == GetUserId())
		return true;

	relid = load_table_oid(kind);
	owner = rel_owner(relid);

	/* looked up and locked as the table's owner, as PostgreSQL's RI checks do */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (c->plan == NULL)
	{
		Oid			argtype = INT4OID;
		SPIPlanPtr	plan = SPI_prepare(t->lookup_sql, 1, &argtype);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		c->plan = plan;
	}
	if (SPI_execute_plan(c->plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");
	found = SPI_processed == 1;
	if (found)
	{
		Datum		xmin = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		own = !isnull && TransactionIdIsCurrentTransactionId(DatumGetTransactionId(xmin));
		unfinished = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s %d does not exist", kind == LOAD_CAPTURE ? "load" : "mail log load", load_id),
				 errdetail("Every row of its %s belongs to a row of spamhints.%s.", t->rows, t->table)));
	if ((!own || !unfinished) && !owns_relation(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s %d is %s: role \"%s\" may not add %s to it",
						kind == LOAD_CAPTURE ? "load" : "mail log load", load_id,
						!unfinished ? "finished" : "not one this transaction created",
						current_role_name(), t->rows),
				 errdetail("A role that does not own spamhints.%s adds rows only to the unfinished load its own transaction inserted.",
						   t->table)));

	c->load_id = load_id;
	c->lxid = MyProc->lxid;
	c->subxid = GetCurrentSubTransactionId();
	c->userid = GetUserId();
	return true;
}

/*
 * load_exists(load_id) -> true, or an error. Meant for the CHECK constraints
 * of spamhints.smtp_sample and spamhints.load_agent.
 */
Datum
spamhints_load_exists(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(load_open_check(LOAD_CAPTURE, PG_GETARG_INT32(0)));
}

/* maillog_load_exists(maillog_load_id): the same for spamhints.mail_event. */
Datum
spamhints_maillog_load_exists(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(load_open_check(LOAD_MAILLOG, PG_GETARG_INT32(0)));
}

/*
 * Is spamhints.smtp_sample, or one of its partitions, open in this session
 * already, so that TRUNCATE of it would fail? Either the same TRUNCATE
 * statement holds it (it will be emptied anyway) or a query or cursor reads
 * it (then the AFTER TRUNCATE trigger deletes its rows). The TRUNCATE would
 * take the same locks.
 */
static bool
samples_in_use(Oid nspid)
{
	Oid			relid = get_relname_relid("smtp_sample", nspid);
	List	   *rels;
	ListCell   *lc;
	bool		in_use = false;

	if (!OidIsValid(relid))
		elog(ERROR, "spamhints.smtp_sample does not exist");
	rels = find_all_inheritors(relid, AccessExclusiveLock, NULL);
	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), NoLock);

		in_use = in_use || rel->rd_refcnt > 1 || AfterTriggerPendingOnRel(lfirst_oid(lc));
		table_close(rel, NoLock);
	}
	list_free(rels);
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
	forget_loads();

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

/* Which kind of load a load table is; -1 for a table of rows. */
static int
load_kind_of(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	for (int k = 0; k < LOAD_KINDS; k++)
		if (strcmp(name, load_tables[k].table) == 0)
			return k;
	return -1;
}

static bool
column_is_null(Relation rel, HeapTuple tuple, const char *column)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), column);
	bool		isnull;

	if (att <= 0)
		elog(ERROR, "spamhints.%s has no column %s", RelationGetRelationName(rel), column);
	(void) heap_getattr(tuple, att, RelationGetDescr(rel), &isnull);
	return isnull;
}

static int32
load_id_of(Relation rel, LoadKind kind, HeapTuple tuple)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), load_tables[kind].id_column);
	bool		isnull;
	Datum		d = heap_getattr(tuple, att, RelationGetDescr(rel), &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

/*
 * The fence, as triggers (see the top of this file); nothing for the owner
 * of the table:
 *   on spamhints.load and spamhints.maillog_load,
 *     BEFORE INSERT FOR EACH ROW: the new load is unfinished, without a hash;
 *     BEFORE UPDATE OR DELETE FOR EACH ROW: only a load this transaction
 *       inserted, and only while it is unfinished (the finishing UPDATE is
 *       the last); either way the loads load_exists() remembered are
 *       forgotten, so that no row is added to a load once finished;
 *     AFTER INSERT FOR EACH ROW, a constraint trigger deferred to COMMIT:
 *       a load is committed finished (or deleted), never left open;
 *     BEFORE TRUNCATE FOR EACH STATEMENT: refused;
 *   on spamhints.smtp_sample, load_agent and mail_event,
 *     BEFORE UPDATE OR DELETE OR TRUNCATE FOR EACH STATEMENT: refused (the
 *     loader only adds rows; purge() and cascades are the owner's).
 */
Datum
spamhints_load_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Relation	rel;
	int			kind;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("load_guard() must be called as a trigger")));
	event = trigdata->tg_event;
	rel = trigdata->tg_relation;
	kind = load_kind_of(rel);

	if (TRIGGER_FIRED_FOR_ROW(event) && kind >= 0 &&
		(TRIGGER_FIRED_BY_UPDATE(event) || TRIGGER_FIRED_BY_DELETE(event)))
		forget_loads();

	if (owns_relation(RelationGetRelid(rel)))
		return TRIGGER_FIRED_FOR_ROW(event) && TRIGGER_FIRED_BEFORE(event) ?
			PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple) :
			PointerGetDatum(NULL);

	what = TRIGGER_FIRED_BY_INSERT(event) ? "insert" : TRIGGER_FIRED_BY_UPDATE(event) ? "update" :
		TRIGGER_FIRED_BY_DELETE(event) ? "delete" : "truncate";

	if (!TRIGGER_FIRED_FOR_ROW(event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not %s spamhints.%s", current_role_name(), what,
						RelationGetRelationName(rel)),
				 errdetail("Only the owner of spamhints.%s changes or deletes what committed loads hold; a loader adds rows to its own unfinished load.",
						   RelationGetRelationName(rel))));
	if (kind < 0)
		elog(ERROR, "load_guard(): not a row trigger on spamhints.%s", RelationGetRelationName(rel));

	if (TRIGGER_FIRED_BY_INSERT(event) && TRIGGER_FIRED_BEFORE(event))
	{
		if (!column_is_null(rel, trigdata->tg_trigtuple, "sha256") ||
			!column_is_null(rel, trigdata->tg_trigtuple, "finished_at"))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" may not insert a finished load into spamhints.%s",
							current_role_name(), load_tables[kind].table),
					 errdetail("A new load has no sha256 and no finished_at: finishing it (UPDATE, in the same transaction, after its %s) sets them.",
							   load_tables[kind].rows)));
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	if (TRIGGER_FIRED_BY_INSERT(event))
	{
		/* deferred to COMMIT: the load's last version is finished, or it is gone */
		Datum		arg = Int32GetDatum(load_id_of(rel, kind, trigdata->tg_trigtuple));
		Oid			argtype = INT4OID;
		char		sql[256];
		bool		unfinished = false;

		snprintf(sql, sizeof(sql), "SELECT x.finished_at IS NULL FROM spamhints.%s x WHERE x.%s OPERATOR(pg_catalog.=) $1",
				 load_tables[kind].table, load_tables[kind].id_column);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		{
			Oid			save_userid;
			int			save_sec;
			int			rc;

			GetUserIdAndSecContext(&save_userid, &save_sec);
			SetUserIdAndSecContext(rel->rd_rel->relowner,
								   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
			rc = SPI_execute_with_args(sql, 1, &argtype, &arg, NULL, true, 1);
			SetUserIdAndSecContext(save_userid, save_sec);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "looking up the load failed");
		}
		if (SPI_processed == 1)
		{
			bool		isnull;

			unfinished = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_finish();
		if (unfinished)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" may not commit %s %d unfinished",
							current_role_name(), kind == LOAD_CAPTURE ? "load" : "mail log load",
							DatumGetInt32(arg)),
					 errdetail("A load is committed only once finished (sha256 and finished_at set), or not at all.")));
		return PointerGetDatum(NULL);
	}

	/* UPDATE or DELETE of a load row: its own transaction's, unfinished */
	{
		HeapTuple	old = trigdata->tg_trigtuple;
		bool		own = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(old->t_data));
		bool		unfinished = column_is_null(rel, old, "finished_at");

		if (!own || !unfinished)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" may not %s %s %d: it is %s",
							current_role_name(), what, kind == LOAD_CAPTURE ? "load" : "mail log load",
							load_id_of(rel, kind, old),
							!unfinished ? "finished" : "not one this transaction created"),
					 errdetail("A role that does not own spamhints.%s changes only the unfinished load its own transaction inserted; a finished load and its %s are kept as they are.",
							   load_tables[kind].table, load_tables[kind].rows)));
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(event) ? trigdata->tg_newtuple : old);
	}
}
