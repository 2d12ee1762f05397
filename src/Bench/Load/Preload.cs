using System.Diagnostics;

namespace KvActors.Bench.Load;

/// <summary>Writes every key of the benchmark once, so that reads find values and puts overwrite, as in etcd's runs.</summary>
internal static class Preload
{
    private const int Clients = 64;
    private const int MaxAttemptsPerKey = 5;

    /// <summary>Puts <c>key0</c>..<c>key{Keys-1}</c>; returns the keys per second it wrote.</summary>
    /// <exception cref="BenchSetupException">A key could not be written in <see cref="MaxAttemptsPerKey"/> attempts.</exception>
    public static async Task<double> RunAsync(IBenchSystem system, LoadSettings settings, CancellationToken cancellationToken)
    {
        var value = new byte[settings.ValueBytes];
        new Random(0).NextBytes(value);
        int next = -1;
        long started = Stopwatch.GetTimestamp();
        IBenchClient[] connections = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => system.ConnectAsync(i, cancellationToken)));
        try
        {
            await Task.WhenAll(connections.Select(async client =>
            {
                for (int key = Interlocked.Increment(ref next); key < settings.Keys; key = Interlocked.Increment(ref next))
                {
                    for (int attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await client.PutAsync(LoadSettings.Key(key), value, cancellationToken);
                            break;
                        }
                        catch (Exception e) when (e is not OperationCanceledException && attempt < MaxAttemptsPerKey)
                        {
                            // A leader change during the preload: try the key again.
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            throw new BenchSetupException($"{system.Name}: preloading {LoadSettings.Key(key)} failed {MaxAttemptsPerKey} times: {e.Message}", e);
                        }
                    }
                }
            }));
        }
        finally
        {
            foreach (IBenchClient connection in connections) await connection.DisposeAsync();
        }
        return settings.Keys / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
