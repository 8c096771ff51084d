using System.Reflection;
using System.Runtime.Loader;

namespace WorkflowTriggers.LoadContext;

/// <summary>
/// Loads the engine and its third-party dependencies (Npgsql, Dapper, Microsoft.Extensions.*) from the module's
/// 'dependencies' folder into a context of their own, so another module's Npgsql in the same session cannot clash.
/// Framework assemblies fall through to the default context.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private static readonly string DependencyFolder = Path.Combine(
        Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!,
        "dependencies");

    internal static readonly DependencyLoadContext Instance = new();

    private DependencyLoadContext()
        : base("WorkflowTriggers", isCollectible: false)
    {
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(DependencyFolder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
