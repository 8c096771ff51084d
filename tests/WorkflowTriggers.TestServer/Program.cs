using WorkflowTriggers.TestServer;

// start --owner-pid N           starts a server that lives until owner N ends or 'stop' is called; prints
//                               CONNECTION=<admin connection string> and STOP=<state for stop>
// stop --state S                removes a server started by 'start'
// create-database --connection C   prints the connection string of a new, empty database on C's server
// drop-database --connection C     drops the database C names
// pgbouncer --connection C --owner-pid N   starts PgBouncer in transaction mode in front of C's server until owner N
//                               ends; prints the connection string of C's database through it, or SKIP=<reason>
// sql --connection C               runs the SQL read from standard input on C
// scalar --connection C            as sql, and prints the first column of the first row
// hold --connection C --application A   runs the SQL read from standard input in a transaction it leaves open, as a
//                               session named A, prints HOLDING=<server process id>, and keeps the transaction (and its
//                               locks) until it is killed or 10 minutes pass
try
{
    var command = args.FirstOrDefault();
    string Option(string name) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"{command}: missing {name} <value>");

    switch (command)
    {
        case "start":
            var server = await ThrowawayPostgres.StartAsync(int.Parse(Option("--owner-pid")), message => Console.Error.WriteLine(message));
            Console.WriteLine($"CONNECTION={server.AdminConnectionString}");
            Console.WriteLine($"STOP={server.StopState}");
            return 0;
        case "stop":
            await ThrowawayPostgres.StopAsync(Option("--state"));
            return 0;
        case "create-database":
            Console.WriteLine(await ThrowawayPostgres.CreateDatabaseAsync(Option("--connection")));
            return 0;
        case "drop-database":
            await ThrowawayPostgres.DropDatabaseAsync(Option("--connection"));
            return 0;
        case "pgbouncer":
            if (ThrowawayPgBouncer.UnavailableReason() is { } missing)
            {
                Console.WriteLine($"SKIP={missing}");
                return 0;
            }

            var bouncer = await ThrowawayPgBouncer.StartAsync(Option("--connection"), int.Parse(Option("--owner-pid")), poolSize: 2);
            Console.WriteLine(bouncer.Through(Option("--connection")));
            return 0;
        case "sql":
            await ThrowawayPostgres.ExecuteAsync(Option("--connection"), await Console.In.ReadToEndAsync());
            return 0;
        case "hold":
            var holder = new Npgsql.NpgsqlConnectionStringBuilder(Option("--connection")) { ApplicationName = Option("--application"), Pooling = false };
            await using (var held = new Npgsql.NpgsqlConnection(holder.ConnectionString))
            {
                await held.OpenAsync();
                await using var transaction = await held.BeginTransactionAsync();
                await using var statement = new Npgsql.NpgsqlCommand(await Console.In.ReadToEndAsync(), held, transaction);
                await statement.ExecuteNonQueryAsync();
                Console.WriteLine($"HOLDING={held.ProcessID}");
                await Task.Delay(TimeSpan.FromMinutes(10));
            }

            return 0;
        case "scalar":
            Console.WriteLine(await ThrowawayPostgres.ScalarAsync(Option("--connection"), await Console.In.ReadToEndAsync()));
            return 0;
        default:
            Console.Error.WriteLine("usage: start --owner-pid N | stop --state S | create-database --connection C | drop-database --connection C | pgbouncer --connection C --owner-pid N | sql --connection C | scalar --connection C | hold --connection C --application A");
            return 2;
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine($"test server: {ex.Message}");
    return 1;
}
