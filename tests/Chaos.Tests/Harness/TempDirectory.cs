namespace KvActors.Chaos.Tests.Harness;

/// <summary>A fresh directory under the system's temp folder, deleted when disposed (if nothing still holds a file).</summary>
internal sealed class TempDirectory(string purpose) : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kvactors-" + purpose, Guid.NewGuid().ToString("N"));

    private bool _keep;

    /// <summary>Leaves the directory in place when disposed (a failed run's evidence).</summary>
    public void Keep() => _keep = true;

    public void Dispose()
    {
        if (_keep) return;
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process may still hold a file for a moment; the OS cleans its temp folder.
        }
    }
}
