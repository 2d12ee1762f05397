using KvActors.Cli;

// The process edge only: everything kvctl does is in Kvctl.RunAsync, which tests call in-process.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;           // let the command stop its client and exit with its own code
    cancel.Cancel();
};
return await Kvctl.RunAsync(args, Console.Out, Console.Error, cancel.Token);
